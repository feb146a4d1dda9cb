"""Print how the official SDK reads a clearml.conf (CLEARML_CONFIG_FILE), as JSON, for the HOCON cross-check."""
import json

from clearml.backend_api import Session
from clearml.config import config_obj

api = config_obj.get("api")
print(
    json.dumps(
        {
            "api": api.as_plain_ordered_dict(),
            "apiHost": Session.get_api_server_host(),
            "webHost": Session.get_app_server_host(),
            "filesHost": Session.get_files_server_host(),
            "sdk_storage_cache_dir": config_obj.get("sdk.storage.cache.default_base_dir"),
            "sdk_log_env": config_obj.get("sdk.development.log_os_environments"),
        }
    )
)
