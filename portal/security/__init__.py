"""Security primitives: personal-data encryption, lookup hashes, masking, HTTP headers."""
