"""amoCRM as a target: its account address and token, a thin API v4 client, its reader."""
