//! The import's round trip: `examples/account.json` (and a credentials file) into a database,
//! exported again, decide the same for every principal of the example.
