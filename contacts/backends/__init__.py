"""SMS gateway backends; each module exposes `create(config) -> SmsGateway`."""
