"""Sources find releases: a website's feed, or a folder of press-release files."""
