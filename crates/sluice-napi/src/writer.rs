// Connection writer binding (filled in by the transfer work).
