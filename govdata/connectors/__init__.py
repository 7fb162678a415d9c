"""Source connectors. Importing the package registers the built-in kinds."""

from govdata.connectors import csvfile, http, sql, xlsxfile  # noqa: F401
from govdata.connectors.base import (  # noqa: F401
    REGISTRY,
    Connector,
    SourceData,
    SourceError,
    SourceFormatError,
    connector_for,
    register,
)
