from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from tagging.models import Tag


class TagOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "slug", "name", "color", "description"]


class TagListApi(APIView):
    @extend_schema(responses=TagOutputSerializer(many=True))
    def get(self, request):
        return Response(TagOutputSerializer(Tag.objects.order_by("name"), many=True).data)
