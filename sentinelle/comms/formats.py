"""The built-in importers, registered on import (an organisation's own register the same way)."""

from __future__ import annotations

from sentinelle.comms import generic_csv, leapp, messenger, skype, telegram, whatsapp

BUILT_IN = (whatsapp.IMPORTER, telegram.IMPORTER, messenger.IMPORTER, skype.IMPORTER,
            leapp.IMPORTER, generic_csv.IMPORTER)
