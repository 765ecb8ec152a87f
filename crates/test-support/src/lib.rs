//! What the integration tests of several crates share: the PostgreSQL and S3 test servers `scripts/test.sh`
//! provides ([`servers`]) and a real SMTP server ([`smtp`]). A dev-dependency of those crates, in place of source files
//! included into each test binary by path.

pub mod servers;
pub mod smtp;

pub use servers::{fresh_postgres_database, test_server_var};
