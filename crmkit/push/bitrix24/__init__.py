"""The Bitrix24 target: the webhook, the REST client (the only module importing ``requests``),
the portal reader, the preflight and the writer."""
