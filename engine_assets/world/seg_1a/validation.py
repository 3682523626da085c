"""Segment-wide checks of 1A: the catalogue, the membership and the counts tell one story.

Blocking: every merchant 1..n is present; the catalogue's primary key is unique across countries;
each merchant has exactly N outlet rows, one home, and site_order runs 1..n_country in every
country; membership adds up to N and lies inside the candidates; candidate ranks run 0..k with
the home at 0; every country partition is published and holds only its own country.
Realism (corridors in config/policies/1a.yaml): single-site share, N distribution (median, top-10
share, Gini), foreign outlet share rising with merchant size, dispersion spread.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl

from engine_assets.quality.gates import MISSING_PARTITIONS_REMEDY, CheckOutcome, ValidationCheck, validation_asset
from engine_assets.quality.realism import Sample, corridor, expectation, invariant, reported
from engine_assets.run.partitions import POLICIES
from engine_assets.storage.reader import Reader
from engine_assets.world.seg_1a.assets import GROUP, UNIVERSE_TABLES
from engine_kernels.merchants.realism import SIZE_BANDS, RealismPolicy, realism_figures


@dataclass(frozen=True)
class Segment1A:
    merchants: pl.DataFrame
    outlet_counts: pl.DataFrame
    candidate_countries: pl.DataFrame
    foreign_membership: pl.DataFrame
    catalogue: pl.DataFrame  # every published country partition, with the partition's country in `partition`
    missing_partitions: list[str]


def load_segment(read: Reader) -> Segment1A:
    tables = {name: read.scan(f"{GROUP}/{name}").collect() for name in UNIVERSE_TABLES}
    catalogue, missing = read.every_country(f"{GROUP}/outlet_catalogue")
    return Segment1A(**tables, catalogue=catalogue, missing_partitions=missing)


def _outcome(name: str, bad: int, what: str, examples: pl.DataFrame | None = None) -> CheckOutcome:
    # The first rows by value: the frames come from joins and group-bys, whose row order is not fixed.
    shown = examples.sort(examples.columns).head(5).to_dicts() if examples is not None and examples.height else None
    details = {"examples": shown} if shown else {}
    return invariant(name, bad, what, details)


def structure_outcomes(seg: Segment1A, n_merchants: int) -> list[CheckOutcome]:
    """The blocking invariants of the segment."""
    cat = seg.catalogue.with_columns(pl.col("legal_country_iso", "home_country_iso").cast(pl.String))
    ids = seg.merchants["merchant_id"]
    home = seg.merchants.select("merchant_id", home=pl.col("home_country_iso").cast(pl.String))
    counts = seg.outlet_counts.select("merchant_id", "n_total")

    expected_ids = np.arange(1, n_merchants + 1, dtype=np.uint64)
    present = ids.to_numpy()
    missing_merchants = (int((~np.isin(expected_ids, present)).sum()) + int((~np.isin(present, expected_ids)).sum())
                         + int(ids.len() - ids.n_unique()))
    duplicates = cat.group_by("merchant_id", "legal_country_iso", "site_order").len().filter(pl.col("len") > 1)
    per_merchant = counts.join(cat.group_by("merchant_id").agg(rows=pl.len()), on="merchant_id", how="full",
                               coalesce=True)
    wrong_rows = per_merchant.filter(pl.col("rows").is_null() | pl.col("n_total").is_null()
                                     | (pl.col("rows") != pl.col("n_total")))
    runs = cat.group_by("merchant_id", "legal_country_iso").agg(
        first=pl.col("site_order").min(), last=pl.col("site_order").max(), rows=pl.len(), n=pl.col("n_country").first(),
        home=pl.col("home_country_iso").first(),
    )
    broken_runs = runs.filter((pl.col("first") != 1) | (pl.col("last") != pl.col("rows")) | (pl.col("rows") != pl.col("n")))
    wrong_home = runs.join(home, on="merchant_id", how="left").filter(pl.col("home") != pl.col("home_right"))
    misplaced = cat.filter(pl.col("legal_country_iso") != pl.col("partition"))

    fm = seg.foreign_membership.with_columns(pl.col("country_iso").cast(pl.String))
    membership = fm.group_by("merchant_id").agg(
        n=pl.col("n_country").sum(), homes=pl.col("is_home").sum(),
        home=pl.col("country_iso").filter(pl.col("is_home")).first(),
    ).join(counts, on="merchant_id", how="full", coalesce=True).join(home, on="merchant_id", how="left")
    bad_membership = membership.filter(
        pl.col("n").is_null() | (pl.col("n") != pl.col("n_total")) | (pl.col("homes") != 1)
        | (pl.col("home") != pl.col("home_right"))
    )
    cand = seg.candidate_countries.with_columns(pl.col("country_iso").cast(pl.String))
    outside = fm.join(cand, on=["merchant_id", "country_iso"], how="anti")
    ranks = cand.group_by("merchant_id").agg(
        k=pl.len(), lo=pl.col("rank").min(), hi=pl.col("rank").max(), distinct=pl.col("rank").n_unique(),
        home=pl.col("country_iso").filter(pl.col("rank") == 0).first(),
        home_flags=(pl.col("is_home") != (pl.col("rank") == 0)).sum(),
    ).join(home, on="merchant_id", how="full", coalesce=True)
    bad_ranks = ranks.filter(
        pl.col("k").is_null() | (pl.col("lo") != 0) | (pl.col("hi") != pl.col("k") - 1) | (pl.col("distinct") != pl.col("k"))
        | (pl.col("home") != pl.col("home_right")) | (pl.col("home_flags") != 0)
    )
    return [
        _outcome("every_merchant_present", missing_merchants, f"merchants missing or repeated among 1..{n_merchants}"),
        _outcome("catalogue_primary_key_unique", duplicates.height, "repeated (merchant, country, site_order)", duplicates),
        _outcome("outlet_rows_equal_n_per_merchant", wrong_rows.height, "merchants whose rows differ from N", wrong_rows),
        _outcome("site_order_contiguous", broken_runs.height, "(merchant, country) runs not 1..n_country", broken_runs),
        _outcome("catalogue_home_matches_merchant", wrong_home.height, "runs with another home country", wrong_home),
        _outcome("catalogue_partitions_complete", len(seg.missing_partitions), "country partitions unpublished",
                 pl.DataFrame({"country": seg.missing_partitions})),
        _outcome("catalogue_rows_in_their_partition", misplaced.height, "rows stored under another country", misplaced),
        _outcome("membership_sums_to_n_with_one_home", bad_membership.height, "merchants", bad_membership),
        _outcome("membership_within_candidates", outside.height, "membership rows not among candidates", outside),
        _outcome("candidate_ranks_contiguous_home_first", bad_ranks.height, "merchants", bad_ranks),
    ]


def realism_outcomes(seg: Segment1A, policy: RealismPolicy) -> list[CheckOutcome]:
    """Figures against their corridors; a world below the enforcement size reports them as passed."""
    counts, membership = seg.outlet_counts, seg.foreign_membership
    # Both tables are sorted by merchant_id, so a search maps membership rows to merchants.
    member_of = np.searchsorted(counts["merchant_id"].to_numpy(), membership["merchant_id"].to_numpy())
    figures = realism_figures(counts["n_total"].to_numpy(), counts["is_multi_site"].to_numpy(),
                              counts["nb_phi"].to_numpy(), member_of, membership["n_country"].to_numpy(),
                              membership["is_home"].to_numpy())
    sample = Sample(seg.merchants.height, policy.enforce_from_merchants, "merchants")
    outcomes = [corridor(name, figures[name], low, high, digits=4, sample=sample)
                for name, (low, high) in policy.corridors.items()]
    bands = [
        {"outlets": f"{lo}-{hi}" if hi is not None else f"{lo}+", "foreign_share": None if np.isnan(s) else round(s, 4)}
        for (lo, hi), s in zip(SIZE_BANDS, figures["foreign_share_by_size_band"])
    ]
    trend = figures["foreign_share_increasing"]
    outcomes.append(expectation("foreign_share_rises_with_size", trend, trend, "foreign share rising band to band",
                                sample=sample, details={"by_size_band": bands}))
    outcomes.append(reported("outlet_figures", int(figures["outlets"]), {
        "max_outlets": figures["max_outlets"], "cross_border_share": round(figures["cross_border_share"], 4)}))
    return outcomes


def evaluate(read: Reader):
    identity = read.identity
    seg = load_segment(read)
    realism = realism_outcomes(seg, identity.policies.merchants.realism)
    return structure_outcomes(seg, identity.profile.merchants) + realism, {}


# What to turn when a realism corridor of config/policies/1a.yaml fails, by figure.
REMEDIES = {
    "catalogue_partitions_complete": MISSING_PARTITIONS_REMEDY,
    "single_site_share": (
        "The share is set by the hurdle's intercept and its sector, channel and GDP-band effects (`hurdle:` in "
        "config/policies/1a.yaml); a lower `hurdle.intercept` gives more single-site merchants, a higher one fewer."),
    "median_multi_site_outlets": (
        "Multi-site outlet counts scale with `outlet_count.mean.base` in config/policies/1a.yaml (times its sector, "
        "channel and GDP-band effects); raise the base for a larger median, lower it for a smaller one."),
    "top10_outlet_share": (
        "Concentration follows the tail of the outlet count: a lower `outlet_count.dispersion.base` in "
        "config/policies/1a.yaml (Var N = μ + μ²/φ) or more single-site merchants (a lower `hurdle.intercept`) "
        "raise the top-10 share; the opposite lowers it."),
    "gini_outlets": (
        "Inequality of outlet counts follows the tail of the count and the single-site share: a lower "
        "`outlet_count.dispersion.base` or a lower `hurdle.intercept` in config/policies/1a.yaml raises the Gini, "
        "higher values lower it."),
    "foreign_outlet_share": (
        "Raise `cross_border.open_probability.intercept` (more merchants abroad) or "
        "`cross_border.foreign_count.theta0` (more countries each) in config/policies/1a.yaml, or lower "
        "`split.home_share_floor.share`, for a higher foreign share; the opposite lowers it."),
    "dispersion_cv": (
        "The spread of φ comes only from the sector, channel and GDP-band effects of `outlet_count.dispersion` in "
        "config/policies/1a.yaml (the base does not change it); widen those effects for a larger CV, narrow them "
        "for a smaller one."),
}

CHECKS = [ValidationCheck(name, text, remedy=REMEDIES.get(name, "")) for name, text in (
    ("every_merchant_present", "Merchants are exactly 1..n, each once."),
    ("catalogue_primary_key_unique", "No (merchant, country, site_order) repeats in the catalogue."),
    ("outlet_rows_equal_n_per_merchant", "Each merchant has exactly N outlet rows."),
    ("site_order_contiguous", "site_order runs 1..n_country in every (merchant, country)."),
    ("catalogue_home_matches_merchant", "Catalogue rows carry their merchant's home country."),
    ("catalogue_partitions_complete", "Every country partition of the catalogue is published."),
    ("catalogue_rows_in_their_partition", "Each catalogue row is stored under its own legal country."),
    ("membership_sums_to_n_with_one_home", "Country memberships add up to N with exactly one home."),
    ("membership_within_candidates", "Merchants operate only in their candidate countries."),
    ("candidate_ranks_contiguous_home_first", "Candidate ranks run 0..k with the home at rank 0."),
)] + [ValidationCheck(name, f"Realism: {name.replace('_', ' ')} inside its corridor (config/policies/1a.yaml).",
                      remedy=REMEDIES[name])
      for name in POLICIES.merchants.realism.corridors] + [
    ValidationCheck("foreign_share_rises_with_size",
                    "Realism: the foreign outlet share rises from size band to size band.",
                    remedy="The rise comes from the size terms of `cross_border` in config/policies/1a.yaml "
                           "(`open_probability.log_outlets`, `foreign_count.theta_log_outlets`) and from "
                           "`split.home_share_floor.share` falling from band to band; raise those slopes or lower "
                           "the home shares of the larger bands."),
    ValidationCheck("outlet_figures", "Outlets, largest merchant and cross-border share, reported.", blocking=False),
]


validation = validation_asset(
    GROUP,
    reads=[f"{GROUP}/{name}" for name in (*UNIVERSE_TABLES, "outlet_catalogue")],
    evaluate=evaluate,
    description="Conservation, coverage and realism of the merchant universe; writes the bundle and _passed.flag.",
    checks=CHECKS,
)
