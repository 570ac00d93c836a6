"""The world Deme is tested against: simulated wearables, chips, modems, GSM network, GPS, broker, demo."""
