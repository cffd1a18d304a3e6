"""WeCom (企业微信 / 政务微信) self-built application: callback crypto, access token, API."""
