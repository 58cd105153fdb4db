"""The harness's error types: one base class, one subclass per kind of failure."""

from __future__ import annotations


class HarnessError(Exception):
    """Base class of every error the harness raises on purpose."""


class ConfigurationError(HarnessError):
    """Bad input from the user: an option, environment variable or scenario name that cannot work.

    The message says what was wrong and how to fix it.
    """


class ToolchainError(HarnessError):
    """Terraform or the AWS provider could not be found, verified or prepared."""


class TargetError(HarnessError):
    """The AWS target (embedded emulator, LocalStack, sandbox account) could not be started or reached."""


class TerraformError(HarnessError):
    """A Terraform command exited non-zero. Carries the command line, exit code and stderr."""

    def __init__(self, command: list[str], exit_code: int, stderr: str, stdout: str = "") -> None:
        self.command = command
        self.exit_code = exit_code
        self.stderr = stderr
        self.stdout = stdout
        tail = stderr.strip() or stdout.strip()[-2000:]
        super().__init__(f"`{' '.join(command)}` exited {exit_code}:\n{tail}")


class NotIdempotentError(HarnessError):
    """A plan right after apply still proposes changes."""


class ResourceNotFoundError(HarnessError):
    """An AWS resource the harness was asked to read does not exist."""


class InterruptedRun(HarnessError):
    """The run was interrupted (SIGINT or SIGTERM): what was applied is destroyed unless told to stop at once."""


class StageTimeout(HarnessError):
    """A Terraform command ran past its stage's deadline (``--tf-timeout``): it was stopped as on a first interrupt
    (its state written), killed if it outlived the grace; what was applied is destroyed. Exit code 124."""

    def __init__(self, message: str, stage: str) -> None:
        self.stage = stage
        super().__init__(message)


class TeardownError(HarnessError):
    """The destroy after a run failed: resources may remain (the run's folder keeps the state). Reported apart
    from the configuration's verdict."""
