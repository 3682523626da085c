"""Errors raised at the engine's boundaries. Each message says what is wrong, where, and how to fix it."""


class EngineError(Exception):
    """Base class for every error the engine raises on purpose."""


class EngineConfigError(EngineError):
    """A profile or policy file is missing or invalid."""


class PublishError(EngineError):
    """A dataset partition could not be written or published."""


class NotPublishedError(EngineError):
    """A reader asked for a partition that has no published version."""


class GateError(EngineError):
    """A downstream segment tried to read an upstream segment that has not passed validation."""


class LaunchError(EngineError):
    """A run was launched in a way its job cannot build, e.g. one partition of a job built whole."""


class LineageError(EngineError):
    """An asset read a dataset it did not declare upstream, so the asset graph would not show the real data flow."""


class PublishRaceError(PublishError):
    """Another writer switched a partition's pointer while this one wrote: this version lost."""


class StoreError(EngineError):
    """The object store under the data root could not be reached, or refused a request."""


class DamagedError(EngineError):
    """A published partition's pointer names a version whose manifest is missing or not the one published."""
