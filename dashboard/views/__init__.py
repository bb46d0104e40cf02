"""One blueprint per page; each module's `bp` also carries that page's JSON API."""
