"""Sign-up, login and logout (Django auth); anonymous uploads move to the account at login."""
