"""The platform-neutral core of Zhaoshang Brain (招商大脑)."""
