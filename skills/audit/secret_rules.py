"""Rules for common providers' credentials that detect-secrets' own plugins do not cover.

Written as detect-secrets plugins, so its filters and ``pragma: allowlist secret`` apply to
them as to its own; detect-secrets loads this file by path (see ``secrets.PROVIDER_RULES``).
Patterns follow each provider's documented token format.
"""

import re

from detect_secrets.plugins.base import RegexBasedDetector


class GoogleApiKeyDetector(RegexBasedDetector):
    secret_type = "Google API Key"
    denylist = [re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")]


class AnthropicKeyDetector(RegexBasedDetector):
    secret_type = "Anthropic API Key"
    denylist = [re.compile(r"\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_\-]{80,}")]


class HuggingFaceTokenDetector(RegexBasedDetector):
    secret_type = "Hugging Face Token"
    denylist = [re.compile(r"\bhf_[A-Za-z0-9]{34,}\b")]


class ShopifyTokenDetector(RegexBasedDetector):
    secret_type = "Shopify Token"
    denylist = [re.compile(r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b")]


class DigitalOceanTokenDetector(RegexBasedDetector):
    secret_type = "DigitalOcean Token"
    denylist = [re.compile(r"\bdo[opr]_v1_[a-f0-9]{64}\b")]
