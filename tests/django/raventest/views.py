from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from raven.django import RavenLoginRequiredMixin, get_login, raven_login_required

#: The test pages' bare answers are text, not HTML documents.
TEXT = "text/plain; charset=utf-8"


def home(request):
    """Public: who is here, as Django and Raven see it."""
    login = get_login(request)
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({
            "user": request.user.get_username() if request.user.is_authenticated else None,
            "raven": None if login is None else {
                "principal": login.principal, "ptags": sorted(login.ptags),
                "auth": login.auth, "sso": sorted(login.sso),
            },
        })
    return render(request, "raventest/home.html", {"login": login})


@raven_login_required
def protected(request):
    return HttpResponse(f"Hello, {request.raven.principal} ({request.user.get_username()})",
                        content_type=TEXT)


@raven_login_required(require_principal={"test0002"})
def staff(request):
    return HttpResponse(f"Staff page for {request.raven.principal}", content_type=TEXT)


@login_required
def members(request):
    return HttpResponse(f"Members' page for {request.user.get_username()}", content_type=TEXT)


@raven_login_required(iact=True)
def password_now(request):
    return HttpResponse(f"Password typed just now by {request.raven.principal}", content_type=TEXT)


@raven_login_required  # require_ptags=None here is refused: it cannot loosen the site's
def anyone(request):
    return HttpResponse(f"Anyone page for {request.raven.principal}", content_type=TEXT)


@raven_login_required(api_401=False)  # scripts too go to the WLS
def scripts_to_wls(request):
    return HttpResponse(f"For {request.raven.principal}", content_type=TEXT)


class ClassBased(RavenLoginRequiredMixin, View):
    def get(self, request):
        return HttpResponse(f"Class-based view for {request.raven.principal}", content_type=TEXT)


@raven_login_required
async def async_view(request):
    return HttpResponse(f"Async view for {request.raven.principal}", content_type=TEXT)


@csrf_exempt
@raven_login_required
def post_here(request):
    return HttpResponse(f"{request.method} by {request.raven.principal}", content_type=TEXT)


@login_required
def loop(request):
    """A page that sends everyone back to itself: a loop to be named."""
    return redirect("loop")
