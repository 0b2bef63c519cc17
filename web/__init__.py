"""DigitScan's Django project: settings, URLs and the apps (registry, uploads, accounts)."""
