import pytest
from django.core.files.storage import default_storage

from tagging import learning


@pytest.fixture
def storage(settings, tmp_path):
    """The deployment's file storage in a fresh folder, and no suggester loaded in the process."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    learning.forget_loaded_suggester()
    yield default_storage
    learning.forget_loaded_suggester()
