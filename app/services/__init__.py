"""Business rules: each module validates, then writes, then records activity."""
