"""The demo world: departments, users, the responsibility list, generated records, grants and
API applications, described in fixtures/demo_world.yaml and loaded by `manage.py demo_load`."""
