"""Every text the bot shows to people, in Vietnamese, in one place for review.

Templates use str.format fields. Keep them short: they are read on a phone. One module per area;
the package is read as one catalogue: `from storage.plan import texts_vi as vi`, then `vi.NAME`.
"""

from storage.plan.texts_vi.conversation import *  # noqa: F403
from storage.plan.texts_vi.formats import *  # noqa: F403
from storage.plan.texts_vi.joining import *  # noqa: F403
from storage.plan.texts_vi.office import *  # noqa: F403
from storage.plan.texts_vi.operator import *  # noqa: F403
from storage.plan.texts_vi.pages import *  # noqa: F403
from storage.plan.texts_vi.privacy import *  # noqa: F403
from storage.plan.texts_vi.reminders import *  # noqa: F403
from storage.plan.texts_vi.staff import *  # noqa: F403
from storage.plan.texts_vi.written_report import *  # noqa: F403
