"""The SQL engine for the configured database, with its problems as configuration errors."""

from __future__ import annotations

from sqlalchemy import Engine

from bot.settings import ConfigError, Settings
from knowledge.sql import DatabaseUnavailable, make_engine


def database_engine(settings: Settings, *, cache: bool = False) -> Engine:
    """The engine for DATABASE_URL (or, with `cache`, ZBRAIN_EMBEDDING_CACHE_URL); a URL
    that cannot be used is a ConfigError naming the variable, in one line. Only the default
    database in ZBRAIN_DATA_DIR gets its directory made."""
    if cache and settings.embedding_cache_url:
        url, variable, owned = settings.embedding_cache_url, "ZBRAIN_EMBEDDING_CACHE_URL", False
    elif settings.database_url:
        url, variable, owned = settings.database_url, "DATABASE_URL", False
    else:
        url, variable, owned = settings.resolved_database_url, "ZBRAIN_DATA_DIR", True
    try:
        return make_engine(url, create_directory=owned)
    except DatabaseUnavailable as exc:
        raise ConfigError(f"{variable}: {exc}") from None
    except OSError as exc:  # the data dir cannot be made (read-only, a file in the way)
        raise ConfigError(f"{variable}: cannot create the database directory ({exc})") from None
