// Package pricecluster finds undervalued declarations by k-means clustering
// of unit values per product (BACUDA series 12).
package pricecluster
