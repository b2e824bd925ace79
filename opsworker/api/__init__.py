"""The versioned JSON API (`/api/v1/`) and the API-token pages (`/settings/api-tokens/`).

The API spans apps (alerts, investigations), so it lives with the project's URL layer and calls
each app's selectors and services; it holds no business logic of its own.
"""
