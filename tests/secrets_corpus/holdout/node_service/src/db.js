const { Pool } = require("pg");
const mysql = require("mysql2/promise");

const pool = new Pool({
  host: "pg.internal",
  user: "shop",
  password: "⟦password⟧",
  database: "shop",
  max: 20,
});

async function legacyConnection() {
  return mysql.createConnection({ host: "10.1.4.7", user: "reports", password: '⟦password⟧', database: "legacy" });
}

const passwordRules = { minLength: ⟦~12⟧, requireSymbol: true };

module.exports = { pool, legacyConnection, passwordRules };
