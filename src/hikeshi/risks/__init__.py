"""The risk register (リスク一覧): foreseeable emergencies per client organisation, scored by
likelihood × impact on a configurable priority matrix, with a heat map and CSV import/export."""
