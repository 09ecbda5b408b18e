"""SMS over Twilio: signed webhooks in, the REST API out."""
