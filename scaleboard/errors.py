"""The small exception tree. Library code raises these; only the CLI catches them."""


class ScaleboardError(Exception):
    """A problem the user can fix. The CLI prints ``error: <message>`` and exits 1."""


class ConfigError(ScaleboardError):
    """A bad suite, site configuration or command-line value."""


class BuildError(ScaleboardError):
    """The site could not be built; the previous ``site/`` is left untouched."""
