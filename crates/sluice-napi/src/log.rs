// Partition log binding (filled in by the storage work).
