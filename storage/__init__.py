"""Data model, migrations, configuration catalog and the rollup queries."""
