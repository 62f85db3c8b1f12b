"""The recorder: clips (remuxed packets) and snapshots."""
