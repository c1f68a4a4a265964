"""参保证明: employers print proof of cover; anyone verifies one by its number and code."""

from __future__ import annotations

from flask import Blueprint, Response, g, redirect, render_template, request, url_for

from portal.auth.access import public, requires
from portal.auth.roles import Role
from portal.certificates import service
from portal.documents import html_to_pdf, qr_svg_data_uri
from portal.extensions import db_session, limiter, settings
from portal.regions import city_name

bp = Blueprint("certificates", __name__)


@bp.post("/certificates/<subject_type>/<int:subject_id>")
@requires(Role.EMPLOYER)
def issue(subject_type: str, subject_id: int):
    certificate = service.issue(db_session(), g.actor, subject_type, subject_id)
    return redirect(url_for("certificates.download", number=certificate.number), 303)


@bp.get("/certificates/<number>.pdf")
@requires(Role.EMPLOYER)
def download(number: str):
    certificate = service.own_certificate(db_session(), g.actor, number)
    code = service.check_code(certificate)
    verify_url = url_for("certificates.verify", n=certificate.number, c=code, _external=True)
    html = render_template(
        "certificates/certificate_pdf.html", certificate=certificate, code=code, verify_url=verify_url,
        qr=qr_svg_data_uri(verify_url), facts=service.printed_facts(certificate),
        source=service.provider(certificate.subject_type), city_name=city_name)
    response = Response(html_to_pdf(html, base_url=request.host_url), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{certificate.number}.pdf"'
    return response


@bp.get("/verify")
@public
@limiter.limit(lambda: settings().ratelimit_public_lookup)
def verify():
    number, code = request.args.get("n", ""), request.args.get("c", "")
    result = None
    if number or code:
        result = service.verify(db_session(), number, code)
    return render_template("certificates/verify.html", number=number, code=code, result=result,
                           city_name=city_name)
