"""Account-level rules: settings, soft deletion with a retention period, restore and purge."""
