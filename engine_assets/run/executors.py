"""The executor of every job, chosen per run by configuration: in one process (the default) or on Celery workers.

A run without `execution` config builds in one process, as on a laptop. A deployment picks Celery in run config
(deploy/run_celery.yaml), with the broker its workers listen to:

    execution:
      config:
        celery:
          broker: {env: DAGSTER_CELERY_BROKER_URL}
          backend: {env: DAGSTER_CELERY_BACKEND_URL}

The outputs do not depend on the choice: every draw is keyed by ids, never by process or order.
"""

import dagster as dg
from dagster_celery import celery_executor

# The choices, each Dagster's own executor with its own config (retries, broker, backend, config_source...).
CHOICES = {"in_process": dg.in_process_executor, "celery": celery_executor}
DEFAULT = "in_process"


def _requirements(config: dict) -> list:
    # Celery workers rebuild the job from its module and write events to the run's instance: both must exist
    # outside the launching process. In one process nothing is required.
    (name,) = config
    return CHOICES[name].get_requirements(config[name])


@dg.executor(
    name="in_process_or_celery",
    config_schema=dg.Field(dg.Selector({name: d.config_schema.as_field() for name, d in CHOICES.items()}),
                           default_value={DEFAULT: {}}),
    requirements=_requirements,
)
def in_process_or_celery_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
    """Steps in this process (`in_process`, the default) or on Celery workers (`celery`: broker, backend, ...)."""
    ((name, config),) = init_context.executor_config.items()
    chosen = CHOICES[name]
    return chosen.executor_creation_fn(init_context._replace(executor_def=chosen, executor_config=config))
