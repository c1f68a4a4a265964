"""The materials area takes no form input of its own: files are uploaded through the forms of the
areas that ask for them (recognition's task list …), which read them with
``portal.materials.uploads.read_upload`` and store them with ``service.store_upload``."""
