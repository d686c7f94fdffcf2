"""The target side: profiles and options, the HTTP layer and its evidence, buckets, local and embedded servers."""
