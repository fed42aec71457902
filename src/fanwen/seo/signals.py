"""Library writes that change what a search engine should fetch again queue the URL."""
