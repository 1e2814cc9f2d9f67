// Package helmtest checks the deployment files: the Helm chart in
// deploy/helm/creditchain (lint, rendering over several value sets, every
// object decoded strictly into its Kubernetes type) and docker-compose.yaml.
// It has its own module so that Helm's and Kubernetes' dependencies stay out
// of the services' builds.
package helmtest
