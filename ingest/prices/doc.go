// Package prices gathers market prices for valuation (BACUDA series 4): the
// price a product sells for in online shops or on an analyst's price list,
// so that a declared unit value can be set against it (feature group
// market, docs/prices.md).
//
// Every source ends in one table, Table, with the columns of Schema: hs6,
// product, price, currency, unit, source, fetched_at. Collect fetches shop
// pages named by a YAML configuration (Config) and extracts prices with CSS
// selectors (goquery) or dotted JSON paths; it honours robots.txt
// (temoto/robotstxt), waits between requests to one host, names itself in
// its User-Agent, retries with backoff, keeps a cache on disk so that a
// rerun fetches nothing twice, and puts every page it could not use in the
// rejects with its URL and reason. Import reads price lists analysts
// already have (CSV, Parquet or JSON). Rates converts prices to one
// currency from a table the user gives.
package prices
