-- One PostgreSQL server for the whole compose network: every institution's
-- replica and every recorder's consensus-ledger state in a database of its
-- own, as they would be on servers of their own in production.
CREATE DATABASE replica_center;
CREATE DATABASE replica_court;
CREATE DATABASE replica_market;
CREATE DATABASE replica_tax;
CREATE DATABASE replica_ecology;
CREATE DATABASE replica_bank;
CREATE DATABASE consensus_court;
CREATE DATABASE consensus_market;
CREATE DATABASE consensus_tax;
CREATE DATABASE consensus_ecology;
