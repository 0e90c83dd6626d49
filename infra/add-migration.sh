#!/usr/bin/env bash
# Adds one EF Core migration to both providers, so they never drift apart.
#   infra/add-migration.sh NAME
# For PostgreSQL, a migration that creates a tenant-owned table must also call
# migrationBuilder.EnableRowLevelSecurity("Table") (ProDesk.Data/Tenancy); a test fails when one lacks it.
set -euo pipefail
name="${1:?usage: infra/add-migration.sh NAME}"
cd "$(dirname "$0")/.."
dotnet tool restore >/dev/null
for provider in Postgres Sqlite; do
  project="src/ProDesk.Migrations.$provider"
  dotnet ef migrations add "$name" --project "$project" --startup-project "$project" --output-dir Migrations
done
echo "Added migration $name to PostgreSQL and SQLite. Tenant-owned tables: add EnableRowLevelSecurity to the PostgreSQL one."
