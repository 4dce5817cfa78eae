#!/usr/bin/env bash
set -euo pipefail

VERSION="${1:?usage: release.sh VERSION}"
DOCKERHUB_TOKEN=⟦dockerhub-token⟧
SHOPIFY_TOKEN="⟦shopify-token⟧"
PULUMI_ACCESS_TOKEN=⟦~${PULUMI_ACCESS_TOKEN:-}⟧
SUPABASE_ACCESS_TOKEN=⟦supabase-token⟧
DOPPLER_TOKEN=⟦doppler-token⟧

echo "$DOCKERHUB_TOKEN" | docker login -u acmebot --password-stdin
docker push "acme/bookshelf-api:${VERSION}"
curl -sS -X POST -H "X-Shopify-Access-Token: ${SHOPIFY_TOKEN}" https://acme.myshopify.com/admin/api/2024-04/themes.json
git tag -s "v${VERSION}" -m "release ${VERSION}"
