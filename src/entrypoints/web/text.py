"""Every English sentence the web pages show, in one place, marked for translation.

``_`` is the gettext marker (``pybabel extract`` finds each ``_("...")``); today it returns the
English text unchanged. Templates read the strings as ``t.NAME``, and the API's error codes
become the plain sentences of :data:`ERRORS`, shown beside the field they concern.
"""

from __future__ import annotations


def _(message: str) -> str:
    """Mark ``message`` for translation; the English text until a catalogue exists."""
    return message


SITE_NAME = _("hourbook")
SKIP_TO_CONTENT = _("Skip to the content")
NAV_FIND = _("Find a professional")
NAV_MY_BOOKINGS = _("My bookings")
NAV_SIGN_IN = _("Sign in")
NAV_REGISTER = _("Register")
NAV_SIGN_OUT = _("Sign out")
SIGNED_IN_AS = _("Signed in as %(email)s")
MAIN_NAVIGATION = _("Main")

# -- Find ----------------------------------------------------------------------------------
FIND_TITLE = _("Find a professional")
FIND_INTRO = _("Choose what you need, where and when; we show who is free.")
FIELD_CATEGORY = _("What do you need?")
FIELD_PLACE = _("Where?")
PLACE_MY_LOCATION = _("My location (asks your browser)")
FIELD_RADIUS = _("Within")
FIELD_DAYS = _("Free within the next")
DAYS_OPTION = _("%(days)s days")
KM_OPTION = _("%(km)s km")
FIND_BUTTON = _("Search")
RESULTS_TITLE = _("Professionals free near %(place)s")
RESULTS_NONE = _("Nobody matches. Try a larger radius or more days.")
RESULT_DISTANCE = _("%(km)s km away")
RESULT_PRICE = _("%(price)s per hour")
RESULT_NEXT_FREE = _("Next free: %(when)s")
RESULT_NO_FREE_TIME = _("No free hour in these days")
LOCATING = _("Finding your location…")
LOCATION_REFUSED = _("Your browser did not share a location; choose a city instead.")
COL_NAME = _("Name")
COL_DISTANCE = _("Distance")
COL_PRICE = _("Price per hour")
COL_NEXT_FREE = _("Next free time")

# -- A professional's page --------------------------------------------------------------------
PRO_RATE = _("%(price)s per hour")
PRO_TRAVELS = _("Comes to you; travel fee %(fee)s per booking.")
PRO_TRAVELS_FREE = _("Comes to you at no extra cost.")
PRO_LOCAL = _("You go to them.")
PRO_CATEGORY = _("Category")
PRO_ZONE = _("Time zone")
PRO_CANCEL_TERMS = _(
    "Free cancellation until %(hours)s hours before the start; later, %(percent)s%% is refunded."
)
FIELD_DURATION = _("How long?")
DURATION_OPTION = _("%(minutes)s minutes")
SHOW_SLOTS = _("Show free times")
WEEK_OF = _("Free times, week of %(day)s")
TIMES_SHOWN_IN = _("Times are shown in your time zone, %(zone)s.")
TIMES_IN_THEIR_ZONE = _(
    "Times are shown in the professional's time zone, %(zone)s (your browser did not say yours)."
)
TIMES_ALSO_IN = _("The professional's time zone is %(zone)s; their local time is in brackets.")
PREVIOUS_WEEK = _("Previous week")
NEXT_WEEK = _("Next week")
OTHER_WEEKS = _("Other weeks")
NO_SLOTS_DAY = _("No free time")
NO_SLOTS_WEEK = _("No free time this week.")
SLOT_LABEL = _("Book %(day)s, %(start)s to %(end)s")
SLOT_PRICE = _("Each slot costs %(price)s.")

# -- Book and pay --------------------------------------------------------------------------
BOOK_TITLE = _("Book %(name)s")
BOOK_SUMMARY = _("%(day)s, %(start)s to %(end)s (%(zone)s)")
BOOK_THEIR_TIME = _("Their local time: %(start)s (%(zone)s)")
BOOK_PRICE = _("Price: %(price)s")
BOOK_HOLD_BUTTON = _("Hold this time and pay")
BOOK_HOLD_EXPLAINED = _(
    "We hold the time for you for %(minutes)s minutes while you pay."
)
BOOK_SIGN_IN_FIRST = _("Sign in or register to book; the time you chose stays selected.")
BOOK_CHOOSE_ANOTHER = _("Choose another time")
PAY_TITLE = _("Pay for your booking")
PAY_HELD_UNTIL = _("The time is held for you until %(until)s (%(minutes)s minutes).")
PAY_AMOUNT = _("Amount: %(price)s")
PAY_BUTTON = _("Pay %(price)s")
FIELD_CARD_NUMBER = _("Card number")
FIELD_CARD_EXPIRY = _("Expiry (MM/YY)")
FIELD_CARD_CVC = _("Security code")
PAY_TEST_CARDS = _(
    "Payments are simulated here: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined."
)
PAY_STRIPE_MISSING = _(
    "Card payments are not set up on this server (no Stripe publishable key); try again later."
)
PAY_STRIPE_NEEDS_JS = _("Paying by card needs JavaScript: Stripe's card form runs in your browser.")
PAY_NOT_PENDING = _("This booking is not waiting for a payment.")

# -- A booking's status -------------------------------------------------------------------------
STATUS_TITLE = _("Your booking")
STATUS_PENDING = _("Waiting for your payment to be confirmed…")
STATUS_CONFIRMED = _("Confirmed. We have e-mailed you and the professional.")
STATUS_PAYMENT_FAILED = _(
    "Payment failed: your card was declined. The time was released; you were not charged."
)
STATUS_HOLD_EXPIRED = _("The hold expired before the payment arrived. The time was released.")
STATUS_CANCELLED = _("Cancelled.")
STATUS_PAYMENT_ERROR = _("The payment could not be started. The time was released.")
STATUS_REFRESH = _("Refresh to see the latest status")
STATUS_PAY_NOW = _("Pay now")
STATUS_REFUND = _("Refund: %(refund)s (%(state)s).")
REFUND_PAID = _("paid back")
REFUND_OWED = _("on its way")
DOWNLOAD_ICS = _("Add to calendar (.ics)")
WITH_PRO = _("with %(name)s")

# -- My bookings -----------------------------------------------------------------------------
MY_BOOKINGS_TITLE = _("My bookings")
UPCOMING = _("Upcoming")
PAST = _("Past and cancelled")
NO_BOOKINGS = _("None.")
CANCEL = _("Cancel")
CANCEL_TITLE = _("Cancel this booking?")
CANCEL_REFUND = _("If you cancel now you get %(refund)s back of the %(paid)s you paid.")
CANCEL_NOTHING_PAID = _("Nothing was paid, so nothing is refunded.")
CANCEL_CONFIRM = _("Yes, cancel it")
CANCEL_KEEP = _("No, keep it")
CANCELLED_WITH_REFUND = _("Cancelled. Refund: %(refund)s.")
STATUS_WORDS = {
    "pending": _("waiting for payment"),
    "confirmed": _("confirmed"),
    "cancelled": _("cancelled"),
}

# -- Accounts --------------------------------------------------------------------------------
SIGN_IN_TITLE = _("Sign in")
REGISTER_TITLE = _("Register")
FIELD_NAME = _("Your name")
FIELD_EMAIL = _("E-mail address")
FIELD_PASSWORD = _("Password")
PASSWORD_HINT = _("At least 10 characters.")
SIGN_IN_BUTTON = _("Sign in")
REGISTER_BUTTON = _("Register")
NO_ACCOUNT_YET = _("No account yet?")
HAVE_ACCOUNT = _("Already registered?")
SIGNED_OUT = _("You are signed out.")
CLIENTS_ONLY = _("Booking needs a client account; you are signed in as a %(role)s.")

# -- Errors ----------------------------------------------------------------------------------
ERROR_TITLE = _("Something went wrong")
BAD_REQUEST = _("The form was out of date or incomplete (400). Go back, reload and try again.")
NOT_FOUND = _("There is nothing here (404).")
TOO_MANY_REQUESTS = _("Too many requests from your address (429). Wait a minute and try again.")
BACK_HOME = _("Back to the search")

# The API's error codes, as sentences for people. Unknown codes fall back to GENERIC_ERROR.
GENERIC_ERROR = _("That did not work. Please try again.")
ERRORS = {
    "slot_unavailable": _("Someone has just taken this time. Please choose another."),
    "outside_availability": _("The professional does not work at that time."),
    "misaligned": _("That start time or length is not one the professional offers."),
    "duration_out_of_range": _("The professional does not take bookings of that length."),
    "in_the_past": _("That time has passed."),
    "too_soon": _("That is too soon: the professional needs more notice."),
    "too_far_ahead": _("That is too far ahead: the professional does not book that far."),
    "too_many_holds": _("You have too many unpaid holds; pay or let one go first."),
    "idempotency_key_reused": _("This form was used for another booking; reload the page."),
    "request_in_progress": _("Your booking is still being made; wait a moment and reload."),
    "payment_unavailable": _("The payment service is not answering; try again in a minute."),
    "storage_unavailable": _("We cannot reach our database right now; try again in a minute."),
    "invalid_credentials": _("Wrong e-mail address or password."),
    "too_many_attempts": _(
        "Too many wrong passwords for this account from your address: wait a while, then try"
        " again."
    ),
    "invalid_input": _("Please check this field."),
    "email_invalid": _("Enter an e-mail address like name@example.com."),
    "password_length": _("Use a password of 10 to 256 characters."),
    "name_required": _("Enter your name."),
    "register_failed": _(
        "We could not register that address. If it already has an account, sign in."
    ),
    "email_unverified": _("Verify your e-mail address first: open the link we sent you."),
    "card_declined": _("Your card was declined. The time was released; choose it again."),
    "card_unknown": _(
        "Use a test card: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined."
    ),
    "card_expiry": _("Enter the expiry as MM/YY."),
    "card_cvc": _("Enter the 3 or 4 digit security code."),
    "illegal_transition": _("This booking can no longer be changed."),
    "bad_place": _("Choose a city, or allow your location."),
    "bad_zone": _("That time zone is unknown; times are shown in the professional's zone."),
}


def sentence(code: str) -> str:
    """The plain sentence for an API error code."""
    return ERRORS.get(code, GENERIC_ERROR)

# -- The professional's pages (/pro/...) -----------------------------------------------------
PROFESSIONALS_ONLY = _(
    "These pages are for professionals' accounts; you are signed in as a %(role)s."
)
NAV_PRO_BOOKINGS = _("My appointments")
NAV_PRO_HOURS = _("Hours")
NAV_PRO_TIME_OFF = _("Time off")
NAV_PRO_PROFILE = _("Profile")
NAV_PRO_CALENDAR = _("Calendar link")
FOR_PROFESSIONALS = _("Are you a professional? Offer your time here.")
PRO_SIGN_UP_TITLE = _("Offer your time")
PRO_SIGN_UP_INTRO = _(
    "Open a professional's account; next you fill in your profile, then your hours."
)
PRO_SIGN_UP_BUTTON = _("Open my account")
PRO_PROFILE_TITLE = _("Your profile")
PRO_PROFILE_NEW = _("Clients find you by what you fill in here.")
PRO_PROFILE_BUTTON = _("Save the profile")
PRO_PROFILE_SAVED = _("Your profile is saved.")
PRO_PROFILE_CREATED = _("Your profile is saved. Now set the hours you work.")
PRO_PUBLIC_PAGE = _("See your public page")
FIELD_PRO_NAME = _("Name clients see")
FIELD_PRO_CATEGORY = _("What you offer")
FIELD_RATE = _("Price per hour")
RATE_HINT = _("In the currency below, like 60 or 60.50.")
FIELD_CURRENCY = _("Currency")
FIELD_ZONE = _("Your time zone")
ZONE_HINT = _("Your hours and appointments are shown in this zone.")
FIELD_CITY = _("Where you work")
FIELD_LAT = _("Exact latitude (optional)")
FIELD_LNG = _("Exact longitude (optional)")
EXACT_PLACE_HINT = _("Leave both empty to use the city's centre.")
FIELD_TRAVEL_MODE = _("Where do appointments take place?")
TRAVEL_LOCAL = _("Clients come to me")
TRAVEL_TRAVEL = _("I go to my clients")
FIELD_TRAVEL_FEE = _("Travel fee per appointment (if you go to them)")
TRAVEL_FEE_HINT = _("Leave empty for no fee.")
PRO_NEEDS_PROFILE = _("Fill in your profile first.")

HOURS_TITLE = _("Your weekly hours")
HOURS_INTRO = _(
    "Times are in your time zone, %(zone)s. A day can have several windows, like 09:00-12:00"
    " and 14:00-18:00. An end of 00:00 means midnight. Empty a window's two times to remove it."
)
HOURS_SAVE = _("Save the hours")
HOURS_SAVED = _("Your hours are saved.")
HOURS_NOT_SAVED = _("The hours were not saved: see the errors below.")
HOURS_ADD_WINDOW = _("Add a window on %(day)s")
HOURS_WINDOW = _("Window %(number)s")
FIELD_FROM = _("From")
FIELD_TO = _("To")
HOURS_CLOSED = _("Not working this day.")
COPY_TITLE = _("Copy a day to others")
COPY_INTRO = _("Copies the saved windows of one day over the days you tick.")
FIELD_COPY_FROM = _("Copy the hours of")
FIELD_COPY_TO = _("To these days")
COPY_BUTTON = _("Copy the hours")
COPIED = _("The hours of %(day)s were copied to %(days)s.")
DAY_NAMES = (
    _("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"),
    _("Sunday"),
)  # fmt: skip

TIME_OFF_TITLE = _("Time off")
TIME_OFF_INTRO = _(
    "Whole days when nobody can book you, in your time zone. Appointments already made on"
    " them stand: cancel them on your appointments page."
)
TIME_OFF_NONE = _("No time off planned.")
TIME_OFF_PERIOD = _("%(first)s to %(last)s")
TIME_OFF_ONE_DAY = _("%(first)s")
TIME_OFF_REMOVE = _("Remove")
TIME_OFF_REMOVE_LABEL = _("Remove the time off from %(first)s to %(last)s")
TIME_OFF_ADD_TITLE = _("Add time off")
FIELD_FIRST_DAY = _("First day")
FIELD_LAST_DAY = _("Last day")
LAST_DAY_HINT = _("Leave empty for a single day.")
FIELD_REASON = _("Note for yourself (optional)")
TIME_OFF_ADD = _("Add the time off")
TIME_OFF_ADDED = _("The time off is added.")
TIME_OFF_REMOVED = _("The time off is removed.")

PRO_BOOKINGS_TITLE = _("Your appointments")
PRO_BOOKINGS_INTRO = _("Upcoming appointments, in your time zone, %(zone)s.")
PRO_NO_BOOKINGS = _("No upcoming appointments yet.")
COL_WHEN = _("When")
COL_CLIENT = _("Client")
COL_STATUS = _("Status")
COL_PRICE_PAID = _("Price")
COL_ACTIONS = _("Actions")
PRO_CANCEL_LABEL = _("Cancel the appointment with %(name)s on %(when)s")
PRO_CANCEL_TITLE = _("Cancel this appointment?")
PRO_CANCEL_WITH = _("With %(name)s")
PRO_CANCEL_REFUND = _(
    "You are cancelling, so the client gets all they paid back: %(refund)s of %(paid)s."
)
PRO_CANCEL_NOTHING_PAID = _("The client has not paid yet, so nothing is refunded.")
PRO_CANCEL_CONFIRM = _("Yes, cancel it")
PRO_CANCEL_KEEP = _("No, keep it")
PRO_CANCELLED = _("The appointment is cancelled; the client is told by e-mail.")
PRO_CANCELLED_REFUND = _(
    "The appointment is cancelled and %(refund)s is refunded; the client is told by e-mail."
)

FEED_TITLE = _("Your calendar link")
FEED_INTRO = _(
    "Subscribe to this private link in your calendar app (Google Calendar, Apple Calendar,"
    " Outlook) to see your appointments there. Anyone with the link sees them: keep it to"
    " yourself."
)
FEED_SHOWN_ONCE = _(
    "We store the link scrambled, so we can show it only now. Making a new link stops the old"
    " one at once."
)
FEED_MAKE = _("Make a new calendar link")
FEED_READY = _("Your new calendar link. Copy it now:")
FEED_FIELD = _("Calendar link")
FEED_COPY = _("Copy the link")
FEED_COPIED = _("Copied.")

ERRORS.update(
    {
        "time_required": _("Give both a start and an end, or neither."),
        "time_format": _("Enter a time like 09:00."),
        "end_before_start": _("The end must be after the start (00:00 means midnight)."),
        "windows_overlap": _("Two windows of this day overlap; make them follow each other."),
        "too_many_windows": _("At most %(count)s windows a day."),
        "copy_days": _("Tick at least one other day to copy to."),
        "category_required": _("Choose what you offer."),
        "rate_format": _("Enter an amount like 60 or 60.50."),
        "rate_too_high": _("That price is higher than we can take."),
        "currency_required": _("Choose a currency."),
        "zone_required": _("Choose your time zone."),
        "city_required": _("Choose a city."),
        "coordinates": _("Give a latitude (-90 to 90) and a longitude (-180 to 180), or neither."),
        "travel_mode_required": _("Choose where appointments take place."),
        "profile_changed": _(
            "Your profile was changed in another window; this page shows it now. Change it again."
        ),
        "day_format": _("Enter a day like 2026-12-24."),
        "last_before_first": _("The last day must be on or after the first day."),
        "reason_length": _("Keep the note under 200 characters."),
        "too_many_days_off": _("That is as many periods of time off as we keep; remove one first."),
    }
)
