"""What the lint server holds before it forks a lint worker: cfn-lint with its rules loaded.

``linting.start_server`` names this module as the forkserver's preload, so the server imports
it once, at its start, and every worker it forks inherits the loaded rules instead of loading
them again (about as long as linting a mid-sized template). Nothing else imports it.
"""

from . import linting

linting.rules()
