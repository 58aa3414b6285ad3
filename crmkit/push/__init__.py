"""Talking to a Bitrix24 portal: the webhook value, the REST client, pull (and later push)."""
