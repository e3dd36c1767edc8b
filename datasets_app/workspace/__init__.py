"""The annotation workspace: example list with search and bulk actions, editor, review queue."""
