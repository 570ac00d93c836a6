"""The configuration's error type and its phone-number check, below every part that validates a piece of hub.toml.

hub.config imports the parsers of its sections (the response plan: hub.incidents.plan) and those parsers raise
ConfigError too: both must come from a module that imports neither, or the two would import each other.
hub.config re-exports both names, so `from hub.config import ConfigError` stays the way to reach them.
"""
import phonenumbers


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the file, the key and what to change."""


def normalise_number(raw, region, where):
    """E.164 ("+22376000001") from what a person typed, or ConfigError naming where it came from."""
    try:
        parsed = phonenumbers.parse(str(raw), region)
    except phonenumbers.NumberParseException as exc:
        raise ConfigError(f"{where}: {raw!r} is not a phone number ({exc})") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ConfigError(f"{where}: {raw!r} is not a valid phone number for region {region}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
