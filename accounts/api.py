from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Team, User


class TeamOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "slug", "name", "description"]


class UserOutputSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")
    teams = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "name", "role", "availability", "capacity", "teams"]

    def get_teams(self, obj) -> list[str]:
        return sorted(team.slug for team in obj.teams.all())


class TeamListApi(APIView):
    @extend_schema(responses=TeamOutputSerializer(many=True))
    def get(self, request):
        return Response(TeamOutputSerializer(Team.objects.order_by("slug"), many=True).data)


class UserListApi(APIView):
    @extend_schema(responses=UserOutputSerializer(many=True))
    def get(self, request):
        users = User.objects.filter(is_active=True).prefetch_related("teams").order_by("username")
        return Response(UserOutputSerializer(users, many=True).data)
