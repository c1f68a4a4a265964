"""The api area takes no form input: a machine call carries its parameters in the path and its
credential in the ``Authorization`` header (see ``portal.api.decorators``)."""
