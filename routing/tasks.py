from celery import shared_task


@shared_task(acks_late=True)
def hand_out_queue(team_id: int) -> int:
    from routing.services import hand_out_queue as hand_out

    return hand_out(team_id=team_id)
