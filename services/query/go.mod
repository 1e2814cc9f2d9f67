module github.com/creditchain/creditchain/services/query

go 1.26.0

require github.com/creditchain/creditchain/pkg v0.0.0

require github.com/getkin/kin-openapi v0.153.0 // indirect

replace github.com/creditchain/creditchain/pkg => ../../pkg
